namespace SdBlazor.Engine.Pipelines;

/// <summary>What <see cref="IGenerationEngine.PreloadAsync"/> did: session creation time, warm-up time (zero when off), and whether it loaded anything (false: the model was already resident).</summary>
public sealed record PreloadTimings(TimeSpan SessionCreation, TimeSpan WarmUp, bool Loaded);
