/**
 * Networks parsed and compared as networks (ipaddr.js), never as strings. One implementation, in the
 * policy pack (`policy/lib/net.ts`), which may import nothing from outside `policy/`: the program's
 * config checks and components use the very same functions, so the plan and the audit cannot disagree
 * on what "the whole internet" is.
 */
export { networksOf, parseNetwork, wholeInternetIn, type Family, type Network, type Parsed } from "../policy/lib/net";
