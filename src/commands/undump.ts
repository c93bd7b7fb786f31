// Placeholder until the real command lands.
import { notBuilt } from './not-built.js';

export const undumpCommand = notBuilt('undump', 'undump', 'issue #2');
