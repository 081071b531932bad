import { spawn } from 'node:child_process';

/**
 * Holds `file` with flock(1) until the returned release is called, so two
 * measurements on one machine never overlap; no file, no lock. flock holds
 * the lock for as long as its `cat` reads our open stdin.
 */
export async function holdLock(file: string | undefined): Promise<() => void> {
  if (!file) return () => undefined;
  const child = spawn('flock', [file, '-c', 'echo held; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`flock ${file} exited with ${code}`)));
  });
  return () => child.stdin.end();
}
