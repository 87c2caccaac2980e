#!/usr/bin/env node
// Entry point kept outside dist/ so that `npm install` can link the bin before the first build.
// dist/bin.js enables V8's compile cache and sets the CLI's V8 settings before anything else loads.
await import('../dist/bin.js');
