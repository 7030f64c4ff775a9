/**
 * What the keychain addon's errors mean, in a user's words (backends/keychain-native.ts translate).
 * The addon reports every failure as one kind with D-Bus's text; these are texts it gave here
 * (the timeout: a 10,000-credential move, bench/RESULTS.md "Scale"; the connection limit: the
 * tests' own bus, test/cli/keychain-move.test.ts without worker threads).
 */
import { describe, expect, it } from 'vitest';
import { translate } from '../../src/backends/keychain-native.js';

const NO_REPLY =
  'Platform failure: DBus error: Did not receive a reply. Possible causes include: the remote application did not send a reply, the message bus security policy blocked the reply, the reply timeout expired, or the network connection was broken.';

describe('keychain errors in a user\'s words', () => {
  it('a D-Bus timeout is a daemon that did not answer, not a locked keychain ("blocked" is not "locked")', () => {
    const e = translate(new Error(NO_REPLY), 'write svc / acct');
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.message).toMatch(/^cannot write svc \/ acct in the OS keychain: the Secret Service did not answer in time/);
    expect(e.message).not.toMatch(/the keychain is locked/);
    expect(e.hint).toMatch(/resumes where it stopped/);
  });

  it('a locked collection is still a locked keychain', () => {
    const e = translate(new Error('Platform failure: DBus error: Cannot create an item in a locked collection'), 'write svc / acct');
    expect(e.message).toMatch(/the keychain is locked/);
    expect(e.hint).toMatch(/unlock the keyring/);
  });

  it("the bus's connection limit is named as such, not as a missing Secret Service", () => {
    const e = translate(new Error('Platform failure: DBus error: The maximum number of active connections for UID 0 has been reached'), 'write svc / acct');
    expect(e.message).toMatch(/the session bus refused another connection \(its limit per user\)/);
    expect(e.message).not.toMatch(/no Secret Service is reachable/);
  });

  it('an unreachable bus is still "no Secret Service is reachable"', () => {
    const e = translate(new Error('Platform failure: DBus error: Failed to connect to socket /nowhere: No such file or directory'), 'read svc / acct');
    expect(e.message).toMatch(/no Secret Service is reachable/);
  });
});
