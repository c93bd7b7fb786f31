// Placeholder until the real command lands.
import { notBuilt } from './not-built.js';

export const captureCommand = notBuilt('capture', 'capture', 'issue #2');
