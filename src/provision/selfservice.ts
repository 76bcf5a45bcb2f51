/**
 * A Resource's self-service portal as a service: sign in (only users of the
 * Resource; the password when the user has one, else a one-time code sent to
 * the email; plus the code of the token the user holds there), then the
 * token and user actions, each only when the Resource allows it. The CLI and
 * the web API (src/web/api-selfservice.ts) both come here.
 */
export {
  beginSignIn,
  signIn,
  SIGNIN_CODE_DIGITS,
  SIGNIN_CODE_TRIES,
  SIGNIN_CODE_TTL_MS,
  SIGNIN_LOCK_MS,
  SIGNIN_MAX_LOCK_MS,
  type SignInBeginInput,
  type SignInChallenge,
  type SignInInput,
} from './portal-signin.js';
export { ENROLL_LOCK_MS, PortalSession, type PortalSessionIds } from './portal-actions.js';
