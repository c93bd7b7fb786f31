// Placeholder until the real command lands.
import { notBuilt } from './not-built.js';

export const replayCommand = notBuilt('replay', 'replay', 'issue #2');
