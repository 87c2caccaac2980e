#!/usr/bin/env node
// Entry point kept outside dist/ so that `npm install` can link the bin before the first build.
import '../dist/bin.js';
