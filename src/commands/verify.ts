// Placeholder until the real command lands.
import { notBuilt } from './not-built.js';

export const verifyCommand = notBuilt('verify', 'verify', 'issue #2');
