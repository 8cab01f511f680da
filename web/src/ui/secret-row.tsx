import { CopyButton } from './copy-button';

/** A secret shown once, in monospace, with a button that copies it. */
export function SecretRow({ text, testId }: { text: string; testId: string }) {
  return (
    <div class="secret-row">
      <code class="secret" data-testid={testId}>
        {text}
      </code>
      <CopyButton text={text} />
    </div>
  );
}
