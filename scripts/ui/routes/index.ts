/** The console's routes kept in their own modules, tried in order after the runs list and run pages. */
import type { UiRoute } from './types.js';

export const ROUTES: UiRoute[] = [];
