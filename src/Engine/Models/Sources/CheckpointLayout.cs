namespace SdBlazor.Engine.Models.Sources;

/// <summary>The model families a single-file checkpoint can be (graph sets name theirs the same way in <c>architecture.json</c>).</summary>
public static class CheckpointFamily
{
    public const string Sd1 = "sd1";
    public const string Sd2 = "sd2";
    public const string Sdxl = "sdxl";

    /// <summary>SGM's refiner: one text encoder (bigG, <c>conditioner.embedders.0.model</c>), 5 time ids.</summary>
    public const string SdxlRefiner = "sdxl_refiner";

    public static bool IsSdxl(string? family) => family is Sdxl or SdxlRefiner;

    public static string Display(string family) => family switch
    {
        Sd1 => "SD 1.x",
        Sd2 => "SD 2.x",
        Sdxl => "SDXL",
        SdxlRefiner => "SDXL refiner",
        _ => family,
    };
}

/// <summary>Whether the UNet predicts noise (epsilon) or v; <see cref="Unknown"/> until decided (SD 2.x files say nothing).</summary>
public enum PredictionType { Unknown, Epsilon, V }

/// <summary>What a checkpoint's header says it is: family, prediction type (and why), its weights by diffusers name, and the graph set that fits.</summary>
public sealed record CheckpointLayout(
    string ModelName,
    string Family,
    PredictionType Prediction,
    string PredictionSource,
    GraphSet GraphSet,
    IReadOnlyDictionary<(string Component, string Key), (MappedWeight Weight, SafetensorsTensor Tensor)> Weights,
    IReadOnlyList<string> UnusedKeys)
{
    public int NativeSize => GraphSet.Info.SampleSize * ModelFolder.VaeScale;
    public bool HasVaeEncoder => GraphSet.Info.Components.Contains("vae_encoder");
    public long OutputBytes => GraphSet.Manifests.Values.Sum(m => m.TotalBytes);
}
