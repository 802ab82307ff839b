namespace SdBlazor.Shared;

/// <summary>Input limits, shared by the form (client-side validation) and the server (authoritative validation).</summary>
public static class GenerationLimits
{
    public const int MaxPromptLength = 2000;
    public const int MinSteps = 1;
    public const int MaxSteps = 150;
    public const double MinCfgScale = 0;
    public const double MaxCfgScale = 30;
    public const int MinSize = 64;
    public const int MaxSize = 2048;
    public const int SizeMultiple = 8;
    public const int MaxBatchSize = 8;
    public const int MaxBatchCount = 100;
    public const int MaxInitImageBytes = 10 * 1024 * 1024;
    public const double MinStrength = 0;
    public const double MaxStrength = 1;

    public static readonly IReadOnlyList<string> Samplers =
        ["Euler", "Euler a", "DDIM", "LMS", "Heun", "DPM++ 2M", "DPM++ 2M SDE", "LCM"];

    public static readonly IReadOnlyList<string> ScheduleTypes = ["Automatic", "Karras"];

    public const int MinClipSkip = 1;
    public const int MaxClipSkip = 12;

    /// <summary>A1111's <c>emphasis</c> option names.</summary>
    public static readonly IReadOnlyList<string> EmphasisModes = ["Original", "No norm", "Ignore", "None"];
}
