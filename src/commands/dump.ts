// Placeholder until the real command lands.
import { notBuilt } from './not-built.js';

export const dumpCommand = notBuilt('dump', 'dump', 'issue #2');
