using System.Text.Json;

namespace SdBlazor.Web.Components.Generation;

/// <summary>
/// The Generate form's values as the browser keeps them between visits (localStorage, one entry per account, so
/// two people on one browser do not share a prompt). The init image stays out: megabytes do not belong there.
/// </summary>
public sealed record FormMemory
{
    public const int MaxJsonLength = 16 * 1024;

    public string Prompt { get; init; } = "";
    public string NegativePrompt { get; init; } = "";
    public string? Model { get; init; }
    public string Sampler { get; init; } = "Euler";
    public string ScheduleType { get; init; } = "Automatic";
    public int Steps { get; init; }
    public double CfgScale { get; init; }
    public SeedMode SeedMode { get; init; }
    public long Seed { get; init; }
    public int Width { get; init; }
    public int Height { get; init; }
    public int BatchCount { get; init; }
    public int BatchSize { get; init; }
    public double Strength { get; init; }

    public static string Key(string account) => "sdblazor-form:" + account;

    public static FormMemory Of(GenerateFormModel f) => new()
    {
        Prompt = f.Prompt, NegativePrompt = f.NegativePrompt, Model = f.Model, Sampler = f.Sampler, ScheduleType = f.ScheduleType,
        Steps = f.Steps, CfgScale = f.CfgScale, SeedMode = f.SeedMode, Seed = f.Seed, Width = f.Width, Height = f.Height,
        BatchCount = f.BatchCount, BatchSize = f.BatchSize, Strength = f.Strength,
    };

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>What was stored, or null when it is missing or not ours (edited by hand, an older shape, too big).</summary>
    public static FormMemory? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json) || json.Length > MaxJsonLength) return null;
        try
        {
            return JsonSerializer.Deserialize<FormMemory>(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Back into the form; the form's validator judges the values like typed ones. A model no longer installed is left as it is.</summary>
    public void ApplyTo(GenerateFormModel f, IReadOnlyCollection<string> installedModels)
    {
        f.Prompt = Prompt ?? "";
        f.NegativePrompt = NegativePrompt ?? "";
        if (Model is not null && installedModels.Contains(Model)) f.Model = Model;
        f.Sampler = Sampler ?? f.Sampler;
        f.ScheduleType = ScheduleType ?? f.ScheduleType;
        f.Steps = Steps;
        f.CfgScale = CfgScale;
        f.SeedMode = Enum.IsDefined(SeedMode) ? SeedMode : SeedMode.Random;
        f.Seed = Seed;
        f.Width = Width;
        f.Height = Height;
        f.BatchCount = BatchCount;
        f.BatchSize = BatchSize;
        f.Strength = Strength;
    }
}
