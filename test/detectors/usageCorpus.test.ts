import { createDetectors } from '../../detectors/usage/index.js';
import { describeTranscriptCorpus } from './transcriptCorpus.js';

describeTranscriptCorpus('scenarios-usage', createDetectors, {
  'tapwire.usage.tool': { expected: 11, detected: 9, missed: 2, falsePositives: 0, recall: 0.818 },
  'tapwire.usage.principal': { expected: 2, detected: 2, missed: 0, falsePositives: 0, recall: 1 },
});
