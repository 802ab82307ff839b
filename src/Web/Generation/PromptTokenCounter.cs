using System.Collections.Concurrent;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Prompts;
using SdBlazor.Engine.Tokenization;

namespace SdBlazor.Web.Generation;

/// <summary>A1111's prompt token counter: tokens used and the chunk capacity, e.g. 80 of 150.</summary>
public readonly record struct PromptTokenCount(int Tokens, int Capacity)
{
    public override string ToString() => $"{Tokens}/{Capacity}";
}

/// <summary>
/// Counts a prompt's tokens as A1111's UI does (<c>get_prompt_lengths</c>: the longest text of the prompt's schedule,
/// after the A1111 syntax, in whole chunks of 75), with the chosen model's tokenizer (loaded once per model folder).
/// </summary>
public sealed class PromptTokenCounter(IGenerationEngine engine, ILogger<PromptTokenCounter> logger)
{
    /// <summary>Prompts longer than this are not counted (the form reports the length limit instead).</summary>
    public const int MaxCountedLength = 100_000;

    private readonly ConcurrentDictionary<string, ClipTokenizer?> _tokenizers = new(StringComparer.Ordinal);

    public PromptTokenCount? Count(string? prompt, string? modelName, string emphasis = "Original", int steps = 20)
    {
        prompt ??= "";
        if (prompt.Length > MaxCountedLength) return null;
        var model = engine.ListModels().FirstOrDefault(m => m.Name == modelName);
        if (model is null) return null;
        var tokenizer = _tokenizers.GetOrAdd(model.Path, Load);
        if (tokenizer is null) return null;
        EmphasisModes.TryParse(emphasis, out var mode);
        var chunker = new PromptChunker(tokenizer);
        var tokens = PromptSchedule.Schedule(prompt, Math.Max(steps, 1)).Select(e => e.Text).Distinct()
            .Max(text => chunker.Chunk(text, mode).TokenCount);
        return new PromptTokenCount(tokens, PromptChunker.TargetTokenCount(tokens));
    }

    private ClipTokenizer? Load(string modelPath)
    {
        try
        {
            return ClipTokenizer.Load(Path.Combine(modelPath, "tokenizer"));
        }
        catch (Exception ex) when (ex is Engine.Models.ModelFolderException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("No token counter for {Model}: {Message}", modelPath, ex.Message);
            return null;
        }
    }
}
