namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// SDXL's "added conditioning" (diffusers' <c>added_cond_kwargs</c>): the pooled text embedding and <c>add_time_ids</c>,
/// one row each per image, laid out [uncond…, cond…] like the hidden states.
/// </summary>
/// <param name="Pooled">Encoder 2's projected pooled output for the prompt, [pooled width].</param>
/// <param name="NegativePooled">The same for the negative prompt; null without classifier-free guidance.</param>
/// <param name="TimeIds">[original h, original w, crop top, crop left, target h, target w] (the refiner: […, aesthetic score]).</param>
public sealed record AddedConditioning(float[] Pooled, float[]? NegativePooled, float[] TimeIds, float[] NegativeTimeIds)
{
    public int PooledWidth => Pooled.Length;

    /// <summary>
    /// Fills the UNet's <c>text_embeds</c> [rows, pooled] and <c>time_ids</c> [rows, ids] for <paramref name="batch"/> images;
    /// <paramref name="pooled"/>/<paramref name="negativePooled"/> replace the defaults for the step's scheduled prompt.
    /// </summary>
    public void Fill(Span<float> textEmbeds, Span<float> timeIds, int batch, float[]? pooled = null, float[]? negativePooled = null)
    {
        var rows = 0;
        if (NegativePooled is not null) rows = FillRows(textEmbeds, timeIds, 0, batch, negativePooled ?? NegativePooled, NegativeTimeIds);
        FillRows(textEmbeds, timeIds, rows, batch, pooled ?? Pooled, TimeIds);
    }

    /// <summary>One half of the CFG batch (A1111's separate passes when prompt and negative prompt differ in length).</summary>
    public void FillHalf(Span<float> textEmbeds, Span<float> timeIds, int batch, bool negative, float[]? pooled) =>
        FillRows(textEmbeds, timeIds, 0, batch, pooled ?? (negative ? NegativePooled! : Pooled), negative ? NegativeTimeIds : TimeIds);

    private static int FillRows(Span<float> textEmbeds, Span<float> timeIds, int first, int count, float[] pooled, float[] ids)
    {
        for (var row = first; row < first + count; row++)
        {
            pooled.CopyTo(textEmbeds.Slice(row * pooled.Length, pooled.Length));
            ids.CopyTo(timeIds.Slice(row * ids.Length, ids.Length));
        }
        return first + count;
    }
}

/// <summary>A request's text conditioning, computed once and shared by its batches.</summary>
/// <param name="Conditional">Prompt hidden states [tokens × hidden].</param>
/// <param name="Unconditional">Negative-prompt hidden states; null without classifier-free guidance.</param>
/// <param name="Added">SDXL only.</param>
public sealed record PromptEmbeddings(float[] Conditional, float[]? Unconditional, int Tokens, int Hidden, AddedConditioning? Added);
