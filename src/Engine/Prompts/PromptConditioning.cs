namespace SdBlazor.Engine.Prompts;

/// <summary>One entry of a conditioning schedule: <paramref name="States"/> [tokens × hidden] up to step <paramref name="EndAtStep"/>.</summary>
/// <param name="Pooled">SDXL: the pooled embedding of this entry's text (A1111's <c>vector</c> changes with the schedule too).</param>
public sealed record ScheduledStates(int EndAtStep, float[] States, float[]? Pooled = null);

/// <summary>
/// The text conditioning of one prompt over the denoising steps (A1111's list of <c>ScheduledPromptConditioning</c>):
/// every entry has the same <see cref="Tokens"/> (77 × chunks).
/// </summary>
public sealed record PromptConditioning(int Tokens, int Hidden, IReadOnlyList<ScheduledStates> Schedule)
{
    public int Chunks => Tokens / PromptChunker.WindowLength;

    public bool Changes => Schedule.Count > 1;

    /// <summary>
    /// A1111's <c>reconstruct_cond_batch</c>: the first entry whose end step is at or after <paramref name="step"/>
    /// (0-based step counter, as A1111's denoiser counts), else the first entry.
    /// </summary>
    public float[] At(int step) => EntryAt(step).States;

    public ScheduledStates EntryAt(int step)
    {
        foreach (var entry in Schedule) if (step <= entry.EndAtStep) return entry;
        return Schedule[0];
    }

    /// <summary>The first <paramref name="chunks"/> chunks of every entry (a UNet that takes fewer tokens).</summary>
    public PromptConditioning Truncate(int chunks)
    {
        if (chunks >= Chunks) return this;
        var length = chunks * PromptChunker.WindowLength * Hidden;
        return new PromptConditioning(chunks * PromptChunker.WindowLength, Hidden,
            Schedule.Select(e => e with { States = e.States[..length] }).ToList());
    }

    /// <summary>
    /// A1111's <c>pad_cond_uncond</c>: every entry extended to <paramref name="chunks"/> chunks with copies of
    /// <paramref name="emptyChunk"/> (the empty prompt's encoding, [77 × hidden]).
    /// </summary>
    public PromptConditioning PadTo(int chunks, float[] emptyChunk)
    {
        if (chunks <= Chunks) return this;
        var window = PromptChunker.WindowLength * Hidden;
        return new PromptConditioning(chunks * PromptChunker.WindowLength, Hidden, Schedule.Select(e =>
        {
            var padded = new float[chunks * window];
            e.States.CopyTo(padded, 0);
            for (var c = Chunks; c < chunks; c++) emptyChunk.CopyTo(padded, c * window);
            return e with { States = padded };
        }).ToList());
    }
}
