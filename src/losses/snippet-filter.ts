// NR-DFERNet's snippet-based filter (test time; spec §1.13): when any snippet is confidently
// non-neutral, the clip's neutral logit is suppressed.

export interface SnippetFilterOptions {
  neutral: number;
  /** A snippet counts when P(neutral) ≤ this ... */
  pNeutralMax: number;
  /** ... and its largest probability exceeds this. */
  pMaxMin: number;
}

export const SNIPPET_FILTER_DEFAULTS: SnippetFilterOptions = { neutral: 2, pNeutralMax: 0.03, pMaxMin: 0.75 };

/** Whether the clip's neutral logit should be set to −1000, from its snippets' probabilities. */
export function snippetFilter(snippetProbs: number[][], opts: SnippetFilterOptions = SNIPPET_FILTER_DEFAULTS): boolean {
  return snippetProbs.some((p) => p[opts.neutral] <= opts.pNeutralMax && Math.max(...p) > opts.pMaxMin);
}
