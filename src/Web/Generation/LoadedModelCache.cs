using Microsoft.Extensions.Options;
using SdBlazor.Engine;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Web.Generation;

/// <param name="EstimatedBytes">What memory admission counts for it (<see cref="MemoryAdmission.ResidentBytes"/>).</param>
public sealed record LoadedModelRow(string Name, string Path, long EstimatedBytes, long MeasuredBytes, TimeSpan LoadTime, DateTime LastUsedUtc, bool InUse);

public sealed record LoadedModelsReport(IReadOnlyList<LoadedModelRow> Models, long TotalEstimatedBytes, long BudgetBytes);

/// <summary>Why a load was refused: an unknown or unusable model, or one whose load alone does not fit the budget.</summary>
public sealed class ModelLoadException(string message, bool notFound = false) : Exception(message)
{
    public bool NotFound { get; } = notFound;
}

/// <summary>
/// Keeps the engine's loaded models within the owner's memory budget, the same budget and per-model estimate memory
/// admission uses: before a job (or a load from the model manager) the least recently used other models are unloaded
/// until they and the job's own estimated peak fit. A model a generation is using is never unloaded.
/// </summary>
public sealed class LoadedModelCache(IGenerationEngine engine, MemoryAdmission admission, IOptions<EngineOptions> engineOptions, ILogger<LoadedModelCache> logger)
{
    public LoadedModelsReport Report()
    {
        var rows = engine.LoadedModels().Select(m => new LoadedModelRow(m.Name, m.Path, admission.ResidentBytes(m.Path), m.MeasuredBytes, m.LoadTime, m.LastUsedUtc, m.InUse)).ToList();
        return new LoadedModelsReport(rows, rows.Sum(r => r.EstimatedBytes), admission.Budget(owner: true));
    }

    /// <summary>Unloads least recently used models other than <paramref name="modelName"/> until they fit beside a peak of <paramref name="needBytes"/>.</summary>
    public void MakeRoom(string? modelName, long needBytes)
    {
        var name = string.IsNullOrWhiteSpace(modelName) ? engineOptions.Value.DefaultModel : modelName;
        var allowed = admission.Budget(owner: true) - needBytes;
        var others = engine.LoadedModels().Where(m => !string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)).ToList(); // least recently used first
        var kept = others.Sum(m => admission.ResidentBytes(m.Path));
        foreach (var model in others)
        {
            if (kept <= allowed) break;
            if (model.InUse || engine.UnloadModel(model.Path) != UnloadOutcome.Unloaded) continue;
            kept -= admission.ResidentBytes(model.Path);
            logger.LogInformation("Unloaded {Model} to keep loaded models within the memory budget of {Budget}", model.Name, MemoryAdmission.GiB(admission.Budget(owner: true)));
        }
    }

    /// <summary>Loads <paramref name="name"/> (warmed up when <c>Engine:WarmUpOnLoad</c>), making room first; waits for a running generation.</summary>
    /// <exception cref="ModelLoadException">Unknown or unusable model, or it does not fit the budget even alone.</exception>
    public async Task<PreloadTimings> LoadAsync(string name, CancellationToken cancellationToken)
    {
        var model = engine.ListModels().FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ModelLoadException($"There is no model named '{name}'.", notFound: true);
        if (model.Error is not null) throw new ModelLoadException(model.Error);
        AdmissionPlan plan;
        try
        {
            // The warm-up is one image's UNet call at the model's native size: plan it as that job.
            plan = admission.Plan(new GenerationRequest { Model = model.Name }, owner: true);
        }
        catch (GenerationValidationException ex)
        {
            throw new ModelLoadException(ex.Message);
        }
        MakeRoom(model.Name, plan.NeedBytes);
        try
        {
            return await engine.PreloadAsync(model.Name, null, cancellationToken);
        }
        catch (Exception ex) when (ex is ArgumentException or Engine.Models.ModelFolderException)
        {
            throw new ModelLoadException(ex.Message);
        }
    }

    public UnloadOutcome Unload(string name) => engine.UnloadModel(name);
}
