/** A page of the console: renders into `main` from the route's parameters; returns what stops its updates. */
export type View = (main: HTMLElement, params: URLSearchParams, id: string | undefined) => Promise<(() => void) | void>;
