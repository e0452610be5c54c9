// ESLint for our own JavaScript (make lint). The app's scripts are plain ES5-style IIFEs; build-assets.mjs (esbuild)
// bundles and minifies them for the browser, and the JavaScript unit tests load them as they are.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/**", "server/static/dist/**", ".venv/**", "e2e/**", "bench/**"] },
  js.configs.recommended,
  {
    files: ["server/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: { ...globals.browser, ...globals.serviceworker, htmx: "readonly" },
    },
    rules: {
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      "eqeqeq": ["error", "smart"],
      "no-implicit-globals": "error",
      "strict": ["error", "function"],
    },
  },
  {
    files: ["tests/js/**/*.mjs", "build-assets.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.node } },
  },
];
