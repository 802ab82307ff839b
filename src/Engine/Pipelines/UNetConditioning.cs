using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Prompts;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// Feeds the UNet the text conditioning of each step: the schedule of prompt editing / alternation (A1111's
/// <c>reconstruct_cond_batch</c> with its 0-based step counter), and, when prompt and negative prompt have different
/// chunk counts, A1111's default of separate UNet passes for the negative and the positive half (its
/// <c>CFGDenoiser.forward</c> when <c>pad_cond_uncond</c> is off).
/// </summary>
internal sealed class UNetConditioning(BatchJob job, int batch)
{
    private float[]? _filledCond, _filledUncond;

    public PromptConditioning Conditional { get; } = job.ConditionalSchedule
        ?? new PromptConditioning(job.Tokens, job.Hidden, [new ScheduledStates(int.MaxValue, job.Conditional)]);

    public PromptConditioning? Unconditional { get; } = job.UnconditionalSchedule
        ?? (job.Unconditional is { } u ? new PromptConditioning(job.Tokens, job.Hidden, [new ScheduledStates(int.MaxValue, u)]) : null);

    public bool SeparatePasses => Unconditional is { } u && u.Tokens != Conditional.Tokens;

    /// <summary>Single pass: fills [uncond…, cond…] for <paramref name="step"/> when it differs from what the UNet has, and uploads it.</summary>
    public void FillIfChanged(UNetRunner unet, int step)
    {
        var condEntry = Conditional.EntryAt(step);
        var uncondEntry = Unconditional?.EntryAt(step);
        var (cond, uncond) = (condEntry.States, uncondEntry?.States);
        if (ReferenceEquals(cond, _filledCond) && ReferenceEquals(uncond, _filledUncond)) return;
        // SDXL: the pooled vector belongs to the scheduled text as the hidden states do (A1111's dict conditioning).
        job.Added?.Fill(unet.TextEmbeds, unet.TimeIds, batch, condEntry.Pooled, uncondEntry?.Pooled);
        var destination = unet.EncoderHiddenStates;
        var row = Conditional.Tokens * Conditional.Hidden;
        var offset = 0;
        if (uncond is not null)
            for (var i = 0; i < batch; i++, offset += row) uncond.CopyTo(destination.Slice(offset, row));
        for (var i = 0; i < batch; i++, offset += row) cond.CopyTo(destination.Slice(offset, row));
        unet.UploadHiddenStates();
        (_filledCond, _filledUncond) = (cond, uncond);
    }

    /// <summary>
    /// Separate passes: the negative half, then the positive half, each with its own token count; the outputs land in
    /// <paramref name="output"/> laid out [uncond…, cond…] for <see cref="ClassifierFreeGuidance"/>.
    /// </summary>
    public void RunSeparate(UNetRunner unet, int step, float timestep, ReadOnlySpan<float> scaledSample, Span<float> output,
        int channels, int latentHeight, int latentWidth, RunOptions runOptions)
    {
        var n = scaledSample.Length;
        RunHalf(unet, Unconditional!, true, step, timestep, scaledSample, output[..n], channels, latentHeight, latentWidth, runOptions);
        RunHalf(unet, Conditional, false, step, timestep, scaledSample, output.Slice(n, n), channels, latentHeight, latentWidth, runOptions);
        _filledCond = _filledUncond = null;
    }

    private void RunHalf(UNetRunner unet, PromptConditioning conditioning, bool negative, int step, float timestep, ReadOnlySpan<float> scaledSample,
        Span<float> output, int channels, int latentHeight, int latentWidth, RunOptions runOptions)
    {
        unet.Prepare(batch, channels, latentHeight, latentWidth, conditioning.Tokens, conditioning.Hidden, job.Added?.PooledWidth ?? 0);
        var entry = conditioning.EntryAt(step);
        var states = entry.States;
        job.Added?.FillHalf(unet.TextEmbeds, unet.TimeIds, batch, negative, entry.Pooled);
        var row = states.Length;
        for (var i = 0; i < batch; i++) states.CopyTo(unet.EncoderHiddenStates.Slice(i * row, row));
        unet.UploadHiddenStates();
        scaledSample.CopyTo(unet.Sample);
        unet.Run(timestep, runOptions);
        unet.Output[..output.Length].CopyTo(output);
    }
}
