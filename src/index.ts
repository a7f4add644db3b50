// The public API of spiral. Subpath exports: spiral/games, spiral/engine, spiral/rl, spiral/eval.
export {};
