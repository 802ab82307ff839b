using System.Security.Claims;

namespace SdBlazor.Web.Models;

/// <summary>What the API and the page call: validate, persist, queue; list; cancel.</summary>
public sealed class ImportService(ImportStore store, ImportRequestValidator validator, ImportRunner runner, ImportWorker worker)
{
    public sealed record Outcome(ModelImport? Import, Dictionary<string, string[]> Errors, bool Conflict = false);

    public Outcome Start(ImportRequest request, ClaimsPrincipal? user)
    {
        var (valid, errors) = validator.Validate(request);
        if (valid is null) return new Outcome(null, errors);
        if (runner.ExistingModel(valid.Name) is not null || store.List().Any(i => !i.IsFinished && string.Equals(i.Name, valid.Name, StringComparison.OrdinalIgnoreCase)))
            return new Outcome(null, new() { ["name"] = [$"A model or a running import named '{valid.Name}' already exists; choose another name."] }, Conflict: true);
        var import = new ModelImport
        {
            Id = Guid.NewGuid().ToString("N"),
            Kind = valid.Kind,
            Source = valid.Source,
            Name = valid.Name,
            Revision = valid.Revision,
            File = valid.File,
            Sha256 = valid.Sha256,
            State = ImportState.Queued,
            RequestedBy = user?.Identity?.Name,
            CreatedUtc = DateTime.UtcNow,
        };
        store.Add(import);
        worker.Enqueue(import.Id);
        return new Outcome(import, errors);
    }

    public IReadOnlyList<ModelImport> List() => store.List();

    public ModelImport? Get(string id) => store.Get(id);

    public bool Cancel(string id) => worker.Cancel(id);

    public bool Retry(string id) => worker.Retry(id);
}
