// A worker script that starts and never answers: stands in for a deployed
// glint-threaded.worker.js that cannot start its engine (test 'threads-timeout').
self.onmessage = () => {};
