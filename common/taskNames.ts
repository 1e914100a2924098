/**
 * What a task's name says about it. MLR-Bench names its tasks `<venue><year>_<topic>`
 * (`iclr2025_wmark`, `neurips2023_new_in_ml`); other names carry no venue or year.
 */

/** The venues of MLR-Bench's tasks; a name may carry any other run of letters too. */
export const KNOWN_VENUES = ['iclr', 'icml', 'neurips'] as const;
export type KnownVenue = (typeof KNOWN_VENUES)[number];

export interface TaskNameParts {
  /** Lower-case letters before the year (`iclr`); absent when the name has no `<venue><year>_` prefix. */
  venue?: KnownVenue | (string & {});
  year?: number;
  /** What follows `<venue><year>_`, else the whole name. */
  topic: string;
}

const PATTERN = /^([A-Za-z]+)(\d{4})_(.+)$/;

export function parseTaskName(name: string): TaskNameParts {
  const m = PATTERN.exec(name);
  if (!m) return { topic: name };
  return { venue: m[1].toLowerCase(), year: Number(m[2]), topic: m[3] };
}

/** A `--venue` value: letters only, compared lower-case. Throws with a message naming `option`. */
export function parseVenue(option: string) {
  return (value: string): string => {
    const v = value.trim().toLowerCase();
    if (!/^[a-z]+$/.test(v)) throw new Error(`${option} must be a venue's letters, like ${KNOWN_VENUES.join(', ')}; got "${value}"`);
    return v;
  };
}

/** A `--year` value: four digits. Throws with a message naming `option`. */
export function parseYear(option: string) {
  return (value: string): number => {
    if (!/^\s*\d{4}\s*$/.test(value)) throw new Error(`${option} must be a four-digit year like 2025, got "${value}"`);
    return Number(value);
  };
}
