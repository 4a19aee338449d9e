import { x } from '#contracts';
console.log(x);
