#!/usr/bin/env node
// The smb3d command. CommonJS on purpose: libuv sizes its thread pool from UV_THREADPOOL_SIZE
// when the pool first starts, and loading an ES module entry point starts it (the loader reads
// files on the pool), so only a CommonJS entry can still set the variable.
//
// 16 threads unless the variable says otherwise. The pool runs every file operation and
// sendfile's waits for socket room (src/native/sendfile.ts takes up to half of it). With Node's
// default of 4, sendfile had 2 threads, and 4 smbclients with two 8 MiB READs in flight each got
// most READs copied through memory: 2.2-2.4 GB/s in all, against 3.4-4.2 GB/s with 16 threads
// and 8 sendfiles at once (2 cores; the threads mostly wait).
process.env.UV_THREADPOOL_SIZE ??= '16';
import('../dist/cli/main.js').catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
