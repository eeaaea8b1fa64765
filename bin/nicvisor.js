#!/usr/bin/env node
import './register.js';

await import('../apps/cli/src/main.ts');
