namespace SdBlazor.Shared;

/// <summary>
/// Checks a request against <see cref="GenerationLimits"/>. The form shows these messages next to the inputs and the
/// server runs the same checks again before queueing (the engine still validates model-specific things itself).
/// </summary>
public static class GenerationRequestValidator
{
    /// <returns>One readable message per problem; empty when the request is acceptable.</returns>
    public static IReadOnlyList<string> Validate(GenerationRequest request)
    {
        var errors = new List<string>();
        // Deserializers (SignalR's JSON and MessagePack) can put null into these non-nullable strings.
        foreach (var (name, value) in (ReadOnlySpan<(string, string?)>)[("Prompt", request.Prompt), ("Negative prompt", request.NegativePrompt), ("Sampler", request.Sampler), ("Schedule type", request.ScheduleType)])
            if (value is null) errors.Add($"{name} must be text, not null.");
        if (errors.Count > 0) return errors;
        if (request.Prompt.Length > GenerationLimits.MaxPromptLength)
            errors.Add($"Prompt is {request.Prompt.Length} characters; at most {GenerationLimits.MaxPromptLength} are allowed.");
        if (request.NegativePrompt.Length > GenerationLimits.MaxPromptLength)
            errors.Add($"Negative prompt is {request.NegativePrompt.Length} characters; at most {GenerationLimits.MaxPromptLength} are allowed.");
        if (request.Steps is < GenerationLimits.MinSteps or > GenerationLimits.MaxSteps)
            errors.Add($"Steps must be between {GenerationLimits.MinSteps} and {GenerationLimits.MaxSteps} (got {request.Steps}).");
        if (double.IsNaN(request.CfgScale) || request.CfgScale is < GenerationLimits.MinCfgScale or > GenerationLimits.MaxCfgScale)
            errors.Add($"CFG scale must be between {GenerationLimits.MinCfgScale} and {GenerationLimits.MaxCfgScale} (got {request.CfgScale}).");
        if (request.Seed < -1)
            errors.Add($"Seed must be -1 (random) or a non-negative number (got {request.Seed}).");
        CheckSize("Width", request.Width, errors);
        CheckSize("Height", request.Height, errors);
        if (request.BatchSize is < 1 or > GenerationLimits.MaxBatchSize)
            errors.Add($"Batch size must be between 1 and {GenerationLimits.MaxBatchSize} (got {request.BatchSize}).");
        if (request.BatchCount is < 1 or > GenerationLimits.MaxBatchCount)
            errors.Add($"Batch count must be between 1 and {GenerationLimits.MaxBatchCount} (got {request.BatchCount}).");
        if (!IsKnownSampler(request.Sampler))
            errors.Add($"Sampler '{request.Sampler}' is unknown; use one of: {string.Join(", ", GenerationLimits.Samplers)}.");
        if (!GenerationLimits.ScheduleTypes.Contains(request.ScheduleType, StringComparer.OrdinalIgnoreCase))
            errors.Add($"Schedule type '{request.ScheduleType}' is unknown; use one of: {string.Join(", ", GenerationLimits.ScheduleTypes)}.");
        if (request.ClipSkip is < GenerationLimits.MinClipSkip or > GenerationLimits.MaxClipSkip)
            errors.Add($"Clip skip must be between {GenerationLimits.MinClipSkip} and {GenerationLimits.MaxClipSkip} (got {request.ClipSkip}).");
        if (!GenerationLimits.EmphasisModes.Contains(request.Emphasis ?? "", StringComparer.OrdinalIgnoreCase))
            errors.Add($"Emphasis '{request.Emphasis}' is unknown; use one of: {string.Join(", ", GenerationLimits.EmphasisModes)}.");
        if (request.InitImage is { } init)
        {
            if (init.Length > GenerationLimits.MaxInitImageBytes)
                errors.Add($"Init image is {init.Length / 1024 / 1024.0:0.0} MB; at most {GenerationLimits.MaxInitImageBytes / 1024 / 1024} MB is allowed.");
            else if (ImageFormatSniffer.Detect(init) is null)
                errors.Add("Init image must be a PNG, JPEG or WebP file.");
            if (double.IsNaN(request.Strength) || request.Strength is < GenerationLimits.MinStrength or > GenerationLimits.MaxStrength)
                errors.Add($"Denoising strength must be between {GenerationLimits.MinStrength} and {GenerationLimits.MaxStrength} (got {request.Strength}).");
        }
        return errors;
    }

    /// <summary>A1111 names, case-insensitive; the old "… Karras" spellings are accepted.</summary>
    public static bool IsKnownSampler(string name)
    {
        var trimmed = name.EndsWith(" Karras", StringComparison.OrdinalIgnoreCase) ? name[..^" Karras".Length] : name;
        return GenerationLimits.Samplers.Contains(trimmed, StringComparer.OrdinalIgnoreCase);
    }

    private static void CheckSize(string name, int? value, List<string> errors)
    {
        if (value is not { } v) return;
        if (v is < GenerationLimits.MinSize or > GenerationLimits.MaxSize || v % GenerationLimits.SizeMultiple != 0)
            errors.Add($"{name} must be a multiple of {GenerationLimits.SizeMultiple} between {GenerationLimits.MinSize} and {GenerationLimits.MaxSize} (got {v}).");
    }
}
