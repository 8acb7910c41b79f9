/**
 * A choice its caller made that the service layer cannot honour (a rule directory that is not there, a mode the
 * configured bus cannot run). The CLI reports it like a usage mistake: one line, exit code 2.
 */
export class ChoiceError extends Error {}
