export * from './constants.js';
export * from './directory.js';
export * from './file-info.js';
export * from './fs-info.js';
export * from './set-info.js';
export * from './short-name.js';
