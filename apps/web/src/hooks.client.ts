import type { HandleClientError } from '@sveltejs/kit';

/**
 * Unknown client-side routes are an expected outcome (+error.svelte shows "Page not found"), so
 * they are not logged as errors; anything else is logged for whoever is debugging.
 */
export const handleError: HandleClientError = ({ error, status, message }) => {
  if (status !== 404) console.error(error);
  return { message };
};
