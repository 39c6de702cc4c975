// Fairness in distributed mode: test/fairness.test.ts as it is, run by `npm run
// test:distributed`, where its service is an API node with two `reelsmith worker`s.
import '../fairness.test.ts';
