#!/usr/bin/env node
// The smb3d executable: everything testable lives in run.ts and below.
import { run } from './run.js';

const code = await run(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
