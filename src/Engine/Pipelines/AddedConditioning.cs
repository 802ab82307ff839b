namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// SDXL's "added conditioning" (diffusers' <c>added_cond_kwargs</c>): the pooled text embedding and <c>add_time_ids</c>,
/// one row each per image, laid out [uncond…, cond…] like the hidden states.
/// </summary>
/// <param name="Pooled">Encoder 2's projected pooled output for the prompt, [pooled width].</param>
/// <param name="NegativePooled">The same for the negative prompt; null without classifier-free guidance.</param>
/// <param name="TimeIds">[original h, original w, crop top, crop left, target h, target w].</param>
public sealed record AddedConditioning(float[] Pooled, float[]? NegativePooled, float[] TimeIds, float[] NegativeTimeIds)
{
    public int PooledWidth => Pooled.Length;

    /// <summary>Fills the UNet's <c>text_embeds</c> [rows, pooled] and <c>time_ids</c> [rows, 6] for <paramref name="batch"/> images.</summary>
    public void Fill(Span<float> textEmbeds, Span<float> timeIds, int batch)
    {
        var row = 0;
        if (NegativePooled is not null)
        {
            for (var i = 0; i < batch; i++, row++)
            {
                NegativePooled.CopyTo(textEmbeds.Slice(row * PooledWidth, PooledWidth));
                NegativeTimeIds.CopyTo(timeIds.Slice(row * 6, 6));
            }
        }
        for (var i = 0; i < batch; i++, row++)
        {
            Pooled.CopyTo(textEmbeds.Slice(row * PooledWidth, PooledWidth));
            TimeIds.CopyTo(timeIds.Slice(row * 6, 6));
        }
    }
}

/// <summary>A request's text conditioning, computed once and shared by its batches.</summary>
/// <param name="Conditional">Prompt hidden states [tokens × hidden].</param>
/// <param name="Unconditional">Negative-prompt hidden states; null without classifier-free guidance.</param>
/// <param name="Added">SDXL only.</param>
public sealed record PromptEmbeddings(float[] Conditional, float[]? Unconditional, int Tokens, int Hidden, AddedConditioning? Added);
