import { describeBusContract } from './bus.contract.js';
import { LocalBus } from './local-bus.js';

describeBusContract('LocalBus', (onError) => Promise.resolve(new LocalBus({ onError })));
