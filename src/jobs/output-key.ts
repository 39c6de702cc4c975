// Where a job's MP4 is stored, and the file name a download of it gets.

export const outputKey = (jobId: string) => `outputs/${jobId}/output.mp4`;

/** `<jobId>.mp4` for a job's output (job ids are `job_` and hex: safe in a header); another key by its last segment. */
export function downloadName(key: string): string {
  const jobId = /^outputs\/([^/]+)\/output\.mp4$/.exec(key)?.[1];
  return jobId ? `${jobId}.mp4` : key.slice(key.lastIndexOf('/') + 1);
}
