// esbuild bundles imported CSS into app.css; for the typechecker a CSS import is a side effect only.
declare module "*.css";
