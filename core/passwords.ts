// Passwords: scrypt (memory-hard, in Node's crypto, no dependency) with N = 2^15, r = 8, p = 1:
// 128·N·r = 32 MiB of memory-bound work per check, about 100–180 ms on one core of the 2-core
// machine this was measured on. That is twice the memory of libsodium's "interactive" scrypt
// setting (the scrypt paper's interactive-login class); OWASP asks for N = 2^17 (128 MiB) or
// more passes at 32 MiB, which we do not take because checks run on libuv's 4 pool threads: at
// most 4 run at once, so at most 128 MiB is in use however many sign-ins arrive, and the attempt
// limits (api/session.ts) bound the CPU an attacker can make us spend. The parameters and a
// 16-byte random salt are encoded with the hash, so they can be raised later and stored
// passwords stay checkable.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { UserError } from './errors.ts';

const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
/** Node's default maxmem is 32 MiB, exactly what N=2^15,r=8 needs plus nothing: allow twice that. */
const MAX_MEMORY = 64 * 1024 * 1024;

export const PASSWORD_MIN_CHARACTERS = 12;
export const PASSWORD_MAX_BYTES = 1024;

const ENCODED = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)$/;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number, length: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** logN, r, p, maxmem: Math.max(MAX_MEMORY, 256 * 2 ** logN * r) };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Why a password is not acceptable, or null. The message names the rule, never the password. */
export function passwordProblem(password: unknown): string | null {
  if (typeof password !== 'string') return 'must be a string';
  if ([...password].length < PASSWORD_MIN_CHARACTERS) return `must be at least ${PASSWORD_MIN_CHARACTERS} characters`;
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) return `must be at most ${PASSWORD_MAX_BYTES} bytes`;
  return null;
}

/** The stored form of a password: `scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new UserError('validation', `password: ${problem}`, { field: 'password' });
  const salt = randomBytes(16);
  const key = await derive(password, salt, LOG_N, R, P, KEY_LENGTH);
  return `scrypt$ln=${LOG_N},r=${R},p=${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * Whether `password` matches the stored hash, compared in constant time. A malformed hash (or
 * one whose parameters are out of the range this code would ever write) is a mismatch, after
 * spending the same work as a real check.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const match = ENCODED.exec(encoded);
  const logN = Number(match?.[1]);
  const r = Number(match?.[2]);
  const p = Number(match?.[3]);
  if (!match || logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) {
    await derive(password, randomBytes(16), LOG_N, R, P, KEY_LENGTH);
    return false;
  }
  const expected = Buffer.from(match[5]!, 'base64');
  const actual = await derive(password, Buffer.from(match[4]!, 'base64'), logN, r, p, expected.length);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A well-formed hash of random bytes: no password matches it (short of a 2^-256 chance). */
const DUMMY_HASH = `scrypt$ln=${LOG_N},r=${R},p=${P}$${randomBytes(16).toString('base64')}$${randomBytes(KEY_LENGTH).toString('base64')}`;

/**
 * Spends one password check against a hash no password matches: for an unknown workspace or
 * email, so that the answer and its time are those of a wrong password.
 */
export async function spendPasswordCheck(password: string): Promise<false> {
  await verifyPassword(password, DUMMY_HASH);
  return false;
}
