/**
 * services.json patterns cannot hang mcp-tokens: the shapes that backtrack exponentially are
 * refused at load, and every match runs under a time budget in a worker thread.
 */
import { describe, expect, it } from 'vitest';
import { VaultError } from '../../src/errors.js';
import { MATCH_BUDGET_MS, matchPattern, patternProblem } from '../../src/services/pattern.js';
import { userServiceSpec, validateUserServices } from '../../src/services/user.js';

const file = (pattern: string) => ({ version: 1, services: [{ name: 'acme', fields: [{ key: 'token', pattern }] }] });

describe('patterns', () => {
  it.each([
    ['(a+)+b', 'a repeated group that holds a quantifier'],
    ['(a*)*', 'a repeated group that holds a quantifier'],
    ['(?:\\w+\\s?)*$', 'a repeated group that holds a quantifier'],
    ['(a|aa)+', 'a repeated group that holds an alternation'],
    ['(a|a)*b', 'a repeated group that holds an alternation'],
    ['((ab)*c){2,}', 'a repeated group that holds a quantifier'],
    ['(?<w>x+){3}', 'a repeated group that holds a quantifier'],
    ['(a)\\1', 'a backreference'],
    ['(?<n>a)\\k<n>', 'a backreference'],
    ['(?=a+)a', 'lookahead and lookbehind'],
    ['(?<!x)a', 'lookahead and lookbehind'],
  ])('%s is refused at load: %s', (pattern, why) => {
    expect(patternProblem(pattern)).toContain(why);
    expect(() => validateUserServices(file(pattern), 'services.json')).toThrow(VaultError);
    expect(() => validateUserServices(file(pattern), 'services.json')).toThrow(why);
  });

  it.each([
    ['sk-[A-Za-z0-9_-]{20,}', 'sk-abcdefghijklmnopqrstuvwxyz', true],
    ['ghp_[A-Za-z0-9]{36}', `ghp_${'a'.repeat(36)}`, true],
    ['https?://[^\\s]+', 'https://x.test/a', true],
    ['(?:foo|bar)-[0-9]+', 'bar-12', true],
    ['(ab)+', 'ababab', true],
    ['(a+)?b', 'aab', true],
    ['[(a+)+]x', '+x', true],
    ['\\p{L}{3}\\(x+\\)+', 'abc(x)', true],
    ['sk-[A-Za-z0-9]{32}', 'sk-short', false],
  ])('%s is accepted and matches as before', (pattern, value, matches) => {
    expect(patternProblem(pattern)).toBeUndefined();
    expect(matchPattern(pattern, value)).toBe(matches ? 'match' : 'no-match');
    const spec = userServiceSpec(validateUserServices(file(pattern), 'services.json').services[0]!);
    expect(spec.fields[0]!.validate(value) === undefined).toBe(matches);
  });

  it('a pattern the load check lets through still cannot run past the time budget', () => {
    // Polynomial, not exponential: each extra [a-z]* multiplies the work by the value's length.
    const pattern = '[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*!';
    expect(patternProblem(pattern)).toBeUndefined();
    const spec = userServiceSpec(validateUserServices(file(pattern), 'services.json').services[0]!);
    const started = Date.now();
    const why = spec.fields[0]!.validate('a'.repeat(2000));
    expect(Date.now() - started).toBeLessThan(MATCH_BUDGET_MS + 5_000);
    expect(why).toContain('took longer than 1 s on this value');
    expect(why).not.toContain('aaaa');
    // The matcher is usable again afterwards.
    expect(matchPattern('ab+', 'abbb')).toBe('match');
  });
});
