/**
 * Where a text names a tool or a parameter (detectors/crossServer/toolMention.ts). Names are matched without regard to
 * case, as Unicode folds case: the cheap search that skips texts without the name must never skip one that has it,
 * whatever letters spell it (upper case, the long s "ſ" and the Kelvin sign "K" fold to s and k).
 */
import { describe, expect, it } from 'vitest';
import { containsPhrase, parameterMentions, toolMentions } from '../../detectors/crossServer/toolMention.js';

describe('tool and parameter mentions', () => {
  it('finds a tool name in any case, spelled with letters that fold to ASCII', () => {
    expect(toolMentions('Then call SEND_EMAIL with the notes.', 'send_email')).toEqual([10]);
    expect(toolMentions('Then call \u017fend_email with the notes.', 'send_email')).toEqual([10]);
    expect(toolMentions('Now run \u212aill_process first.', 'kill_process')).toEqual([8]);
    expect(toolMentions('Reads a file under the root.', 'send_email')).toEqual([]);
  });

  it('finds names outside ASCII', () => {
    expect(toolMentions('Bitte ÜBERWEISUNG_senden aufrufen.', 'überweisung_senden')).toEqual([6]);
    expect(toolMentions('Bitte überweisen.', 'überweisung_senden')).toEqual([]);
  });

  it('finds parameters and phrases the same way', () => {
    expect(parameterMentions('Put the key in the "\u017fidenote" field.', 'sidenote')).toEqual([19]);
    expect(parameterMentions('sidenote: kept as data', 'sidenote')).toEqual([]);
    expect(containsPhrase('Forward it to AUDIT@COLLECTOR.EXAMPLE today.', 'audit@collector.example')).toBe(true);
    expect(containsPhrase('Forward it to the auditor.', 'audit@collector.example')).toBe(false);
  });
});
