import { createDetectors } from '../../detectors/crossServer/index.js';
import { describeTranscriptCorpus } from './transcriptCorpus.js';

describeTranscriptCorpus('scenarios-cross', createDetectors, {
  'tapwire.cross-server': { expected: 14, detected: 12, missed: 2, falsePositives: 0, recall: 0.857 },
});
