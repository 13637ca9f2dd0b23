// A single-page app: nothing is rendered on the server or at build time. The static adapter
// writes one `index.html` shell (its `fallback`) that the server returns for every client route.
export const ssr = false;
export const prerender = false;
