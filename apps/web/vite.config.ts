import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vite';

/**
 * The web app is a single-page app built to `build/` and served by the Fastify server:
 * every client-side route falls back to `index.html`, `.br`/`.gz` siblings are written for the
 * server to send, and hashed assets land under `build/_app/immutable/`. SvelteKit's options are
 * passed to the plugin here (no svelte.config.js). The CSP is set by the server, which hashes the
 * inline bootstrap script of `build/index.html` at start, so `kit.csp` is not used.
 */
export default defineConfig({
  plugins: [
    tailwindcss(),
    sveltekit({
      adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', precompress: true, strict: true }),
    }),
  ],
  ssr: {
    // SvelteKit needs cookie 0.6 (nested under @sveltejs/kit), while the workspace root hoists
    // cookie 2 for the server. Bundling it into the build-time SSR output makes Vite resolve it
    // from SvelteKit's own folder instead of from apps/web, where only cookie 2 is visible.
    noExternal: ['cookie'],
  },
});
