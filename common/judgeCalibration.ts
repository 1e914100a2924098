/**
 * Pure (no I/O): whether a judge is calibrated. No model small enough to run embedded judges
 * meaningfully (in trials the 1.5B model scored a junk paper highest), so `lab judge` and
 * `lab bench` run an embedded judge only with --allow-uncalibrated-judge, and every review such
 * a judge writes carries `calibrated: false` and says so wherever it is shown.
 */

/** The CLI flag that lets an embedded model judge anyway. */
export const ALLOW_UNCALIBRATED_JUDGE_FLAG = '--allow-uncalibrated-judge';

/** An embedded judge: the spec `embedded` or `embedded:<file.gguf>`, or the model name the embedded provider reports. */
export function isEmbeddedJudge(spec: string | undefined): boolean {
  return /^embedded(:|$)/.test(spec?.trim() ?? '');
}

/** The line a review by an uncalibrated judge carries (stored as `calibration`, printed beside its scores). */
export const UNCALIBRATED_NOTE =
  'not calibrated: an embedded model this small does not judge meaningfully (in trials it scored a junk paper highest); read these scores as a smoke test, not an assessment';

/** The one-line refusal when an embedded judge is asked for without the flag. */
export function uncalibratedJudgeRefusal(judge: string, how = ''): string {
  return (
    `${judge}${how} is an embedded judge, and no model of this size judges meaningfully (in trials it scored a junk paper highest); ` +
    `nothing was started. Name a provider model as judge, or pass ${ALLOW_UNCALIBRATED_JUDGE_FLAG} to run it anyway (its reviews are marked not calibrated)`
  );
}
