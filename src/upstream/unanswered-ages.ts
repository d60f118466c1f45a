/** An endpoint's unanswered requests by age, as src/upstream/in-flight.ts counts them. */

/**
 * One per Endpoint: its unanswered requests by age. Scrapes at least UNREPORTED_GRACE_MS (in-flight.ts) apart
 * open a new generation; a request carries the generation it was sent in (its ticket), so the counts of
 * requests older than the current and the previous generation stay exact as requests end, in any order. Its own
 * file so the Endpoint can hold one without importing the counting that reads the Endpoint.
 */
export class UnansweredAges {
  generation = 0;
  generationStartedAt = 0;
  /** Unanswered requests sent before the current generation began. */
  beforeCurrent = 0;
  /** Unanswered requests sent before the previous generation began: at least the grace old. */
  beforePrevious = 0;
  /** How many of those the last successful scrape's running + waiting left out. */
  unreportedAtScrape = 0;
}
