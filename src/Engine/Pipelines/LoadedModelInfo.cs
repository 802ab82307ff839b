namespace SdBlazor.Engine.Pipelines;

/// <summary>A model whose sessions are loaded now (see <see cref="IGenerationEngine.LoadedModels"/>).</summary>
/// <param name="Path">The folder the sessions were made from (a LoRA variant or a converted checkpoint has its own).</param>
/// <param name="MeasuredBytes">How much the process's resident memory grew while its sessions were made (0 when it shrank: a collection ran meanwhile).</param>
/// <param name="LoadTime">Session creation time.</param>
/// <param name="InUse">A generation or a warm-up is running on it: it cannot be unloaded now.</param>
public sealed record LoadedModelInfo(string Name, string Path, long MeasuredBytes, TimeSpan LoadTime, DateTime LoadedUtc, DateTime LastUsedUtc, bool InUse);

/// <summary>What <see cref="IGenerationEngine.UnloadModel"/> did.</summary>
public enum UnloadOutcome
{
    Unloaded,
    NotLoaded,

    /// <summary>A generation is running on it; nothing was released.</summary>
    InUse,
}
