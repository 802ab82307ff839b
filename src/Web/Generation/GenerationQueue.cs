using System.Threading.Channels;
using LiteDB;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Generation;

/// <summary>
/// The persistent job queue every front end submits to (Blazor page, hub, REST). Jobs live in LiteDB, so queued
/// jobs survive a restart; a capacity-1 channel only wakes the worker (the database is the source of truth).
/// Compound operations run under one lock so a job is never handed out twice.
/// </summary>
public sealed class GenerationQueue
{
    private readonly object _gate = new();
    private readonly ILiteCollection<Job> _jobs;
    private readonly QueueDatabase _database;
    private readonly InitImageFiles _inputs;
    private readonly Channel<bool> _wakeUp = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly SubmissionValidator _validator;
    private readonly RunningJobs _running;
    private readonly JobNotifier _notifier;

    public GenerationQueue(QueueDatabase database, InitImageFiles inputs, SubmissionValidator validator, RunningJobs running, JobNotifier notifier)
    {
        _database = database;
        _inputs = inputs;
        _jobs = database.Database.GetCollection<Job>("jobs");
        _jobs.EnsureIndex(j => j.Status);
        _jobs.EnsureIndex(j => j.Order);
        _jobs.EnsureIndex(j => j.Account);
        MoveInlineInitImagesToFiles();
        DeleteUnneededInitImages();
        _validator = validator;
        _running = running;
        _notifier = notifier;
    }

    /// <summary>Validates and queues a request. Throws <see cref="GenerationValidationException"/> with every problem found; nothing is stored then.</summary>
    /// <param name="id">A job id chosen by the caller, so it can subscribe to the job's events before the worker can start it.</param>
    /// <param name="parentImageId">The gallery image an img2img job starts from, so the result's lineage points back to it.</param>
    /// <param name="account">The submitting member's account (null: the owner's); its images go to that account's gallery.</param>
    public Job Enqueue(GenerationRequest request, string? owner = null, string? id = null, string? resubmittedFrom = null,
        string? parentImageId = null, string? account = null)
    {
        var errors = _validator.Validate(request, owner: account is null);
        if (errors.Count > 0) throw new GenerationValidationException(string.Join(" ", errors));

        var job = new Job
        {
            Id = id ?? Job.NewId(),
            Request = request with { InitImage = null, Mask = null },
            HasInitImage = request.InitImage is not null,
            HasMask = request.Mask is not null,
            Status = JobStatus.Queued,
            Owner = owner,
            Account = account,
            CreatedUtc = DateTime.UtcNow,
            ResubmittedFrom = resubmittedFrom,
            ParentImageId = request.InitImage is null ? null : parentImageId,
        };
        int position;
        lock (_gate)
        {
            if (_jobs.Exists(j => j.Id == job.Id)) throw new GenerationValidationException($"Job id '{job.Id}' is already in use.");
            if (request.InitImage is { } init) _inputs.Write(job.Id, init);
            if (request.Mask is { } mask) _inputs.Write(job.Id, mask, InitImageFiles.MaskExtension);
            job.Order = (_jobs.Query().OrderByDescending(j => j.Order).FirstOrDefault()?.Order ?? 0) + 1;
            _jobs.Insert(job);
            position = PositionOfLocked(job);
        }
        _notifier.Publish(new JobQueuedEvent { JobId = job.Id, Position = position });
        _wakeUp.Writer.TryWrite(true);
        return job;
    }

    /// <summary>
    /// Marks the first queued job Running, registers its control handle (cancel/skip) and returns both, the job with
    /// its init image; <c>null</c> when nothing is queued.
    /// </summary>
    public (Job Job, RunningJob Run)? TryStartNext(CancellationToken stopping)
    {
        Job? job;
        RunningJob run;
        lock (_gate)
        {
            job = _jobs.Query().Where(j => j.Status == JobStatus.Queued).OrderBy(j => j.Order).FirstOrDefault();
            if (job is null) return null;
            job.Status = JobStatus.Running;
            job.StartedUtc = DateTime.UtcNow;
            _jobs.Update(job);
            run = _running.Start(job.Id, stopping);
        }
        if (job.HasInitImage) job.Request = job.Request with { InitImage = ReadInitImage(job.Id) };
        // A missing mask file would turn an inpaint into a plain img2img: the worker's validation then fails the job instead.
        if (job.HasMask) job.Request = job.Request with { Mask = _inputs.Read(job.Id, InitImageFiles.MaskExtension) ?? [] };
        _notifier.QueueChanged();
        return (job, run);
    }

    public async ValueTask WaitForWorkAsync(CancellationToken cancellationToken) =>
        await _wakeUp.Reader.ReadAsync(cancellationToken);

    /// <summary>Records the saved result; the job's init image is deleted now (the result is safe, and the queue keeps no inputs of done jobs).</summary>
    public void Complete(string id, IReadOnlyList<string> imageIds, GenerationSummary summary)
    {
        Update(id, j => { j.Status = JobStatus.Completed; j.ImageIds = [.. imageIds]; j.Result = summary; });
        _inputs.Delete(id);
    }

    public void Fail(string id, string reason) => Update(id, j => { j.Status = JobStatus.Failed; j.Error = reason; });

    /// <param name="imageIds">Images finished before the cancel (kept, as A1111 keeps them).</param>
    public void MarkCancelled(string id, IReadOnlyList<string>? imageIds = null, GenerationSummary? summary = null) =>
        Update(id, j => { j.Status = JobStatus.Cancelled; j.ImageIds = [.. imageIds ?? []]; j.Result = summary; });

    public void MarkInterrupted(string id, IReadOnlyList<string>? imageIds = null) =>
        Update(id, j => { j.Status = JobStatus.Interrupted; j.ImageIds = [.. imageIds ?? []]; j.Error = "The server stopped while this job was running."; });

    /// <summary>At start-up: jobs left Running by a process that died become Interrupted (they can be resubmitted).</summary>
    public int MarkAbandonedRunsInterrupted()
    {
        lock (_gate)
        {
            var abandoned = _jobs.Find(j => j.Status == JobStatus.Running).ToList();
            foreach (var job in abandoned)
            {
                job.Status = JobStatus.Interrupted;
                job.FinishedUtc = DateTime.UtcNow;
                job.Error = "The server stopped while this job was running.";
                _jobs.Update(job);
            }
            return abandoned.Count;
        }
    }

    /// <summary>Cancels a queued job at once, or asks the running one to stop after the current step.</summary>
    /// <returns><c>false</c> when the job is unknown, not <paramref name="scope"/>'s or already finished.</returns>
    public bool Cancel(string id, AccountScope scope)
    {
        lock (_gate)
        {
            var job = _jobs.FindById(id);
            if (job is null || !scope.Sees(job.Account)) return false;
            if (job is { Status: JobStatus.Queued })
            {
                job.Status = JobStatus.Cancelled;
                job.FinishedUtc = DateTime.UtcNow;
                _jobs.Update(job);
            }
            else
            {
                // Running jobs get their handle inside this lock (TryStartNext), so this cannot miss one.
                if (_running.Find(id) is not { } run) return false;
                run.Cancel();
                return true;
            }
        }
        _notifier.Publish(new JobCancelledEvent { JobId = id });
        return true;
    }

    /// <summary>Abandons the image (batch) being generated and goes on with the next one.</summary>
    public bool Skip(string id, AccountScope scope)
    {
        if (Get(id, scope) is null || _running.Find(id) is not { } run) return false;
        run.RequestSkip();
        return true;
    }

    /// <summary>
    /// Moves a queued job up (negative) or down (positive) among the queued jobs <paramref name="scope"/> sees: a
    /// member reorders their own jobs among the places they hold, never past someone else's.
    /// </summary>
    public bool Move(string id, int delta, AccountScope scope)
    {
        lock (_gate)
        {
            var queued = _jobs.Query().Where(j => j.Status == JobStatus.Queued).OrderBy(j => j.Order).ToList()
                .FindAll(j => scope.Sees(j.Account));
            var index = queued.FindIndex(j => j.Id == id);
            var target = index + delta;
            if (index < 0 || delta == 0 || target < 0 || target >= queued.Count) return false;
            var moving = queued[index];
            queued.RemoveAt(index);
            queued.Insert(target, moving);
            var orders = queued.Select(j => j.Order).Order().ToList();
            for (var i = 0; i < queued.Count; i++)
            {
                if (queued[i].Order == orders[i]) continue;
                queued[i].Order = orders[i];
                _jobs.Update(queued[i]);
            }
        }
        _notifier.QueueChanged();
        return true;
    }

    /// <summary>
    /// Queues a copy of a finished (e.g. Interrupted) job's request. The copy belongs to the same account as the
    /// original: the owner retrying a member's job makes images for that member. <paramref name="change"/> alters the
    /// copy (the result strip's "new seed" and "vary"); the queue validates the outcome as any request.
    /// </summary>
    public Job Resubmit(string id, AccountScope scope, string? owner = null, string? newId = null, Func<GenerationRequest, GenerationRequest>? change = null)
    {
        var job = Get(id, scope) ?? throw new GenerationValidationException($"Job '{id}' does not exist.");
        if (!job.Status.IsFinished()) throw new GenerationValidationException($"Job '{id}' is still {job.Status.ToString().ToLowerInvariant()}.");
        var request = job.Request;
        if (job.HasInitImage)
        {
            request = request with
            {
                InitImage = ReadInitImage(id) ?? throw new GenerationValidationException(
                    $"Job '{id}' completed and its init image was deleted with it; start img2img again from the image."),
            };
        }
        if (job.HasMask)
        {
            request = request with
            {
                Mask = _inputs.Read(id, InitImageFiles.MaskExtension) ?? throw new GenerationValidationException(
                    $"Job '{id}' completed and its mask was deleted with it; paint the mask again."),
            };
        }
        if (change is not null) request = change(request);
        return Enqueue(request, owner, newId, resubmittedFrom: id, parentImageId: job.ParentImageId, account: job.Account);
    }

    /// <summary>Any job, whoever submitted it: for the worker and server-side bookkeeping, never for answering a caller.</summary>
    public Job? Get(string id) => _jobs.FindById(id);

    /// <summary>The job if <paramref name="scope"/> may see it; otherwise null, exactly as for an unknown id.</summary>
    public Job? Get(string id, AccountScope scope) => _jobs.FindById(id) is { } job && scope.Sees(job.Account) ? job : null;

    /// <summary>The job the worker is running now, whoever submitted it.</summary>
    public Job? Running() => _jobs.FindOne(j => j.Status == JobStatus.Running);

    /// <summary>1-based place among queued jobs; 0 when the job is not queued.</summary>
    public int PositionOf(string id)
    {
        lock (_gate)
        {
            return _jobs.FindById(id) is { Status: JobStatus.Queued } job ? PositionOfLocked(job) : 0;
        }
    }

    /// <summary>
    /// Running and queued jobs in run order, then the most recent finished ones: all of them for the owner, a
    /// member's own for a member (the account index narrows the finished ones before they are sorted and cut).
    /// </summary>
    public IReadOnlyList<Job> List(int recentFinished, AccountScope scope)
    {
        var active = _jobs.Query().Where(j => j.Status == JobStatus.Running || j.Status == JobStatus.Queued).ToList()
            .Where(j => scope.Sees(j.Account))
            .OrderBy(j => j.Status == JobStatus.Running ? 0 : 1).ThenBy(j => j.Order);
        if (recentFinished <= 0) return [.. active];
        var finished = Visible(scope).Where(j => j.Status != JobStatus.Running && j.Status != JobStatus.Queued)
            .OrderByDescending(j => j.Order).Limit(recentFinished).ToList();
        return [.. active, .. finished];
    }

    /// <summary>How many jobs <paramref name="scope"/> has waiting.</summary>
    public int QueuedCount(AccountScope scope) =>
        scope.SeesAll ? _jobs.Count(j => j.Status == JobStatus.Queued) : _jobs.Count(j => j.Status == JobStatus.Queued && j.Account == scope.Account);

    private ILiteQueryable<Job> Visible(AccountScope scope) =>
        scope.SeesAll ? _jobs.Query() : _jobs.Query().Where(j => j.Account == scope.Account);

    private int PositionOfLocked(Job job) => _jobs.Count(j => j.Status == JobStatus.Queued && j.Order <= job.Order);

    private byte[]? ReadInitImage(string id) => _inputs.Read(id);

    /// <summary>
    /// Queue files from before init images were files keep them in LiteDB file storage: move each one still needed
    /// (job not completed) to a file, drop the storage and compact the database once.
    /// </summary>
    private void MoveInlineInitImagesToFiles()
    {
        var db = _database.Database;
        if (!db.CollectionExists("initFiles")) return;
        var storage = db.GetStorage<string>("initFiles", "initChunks");
        foreach (var file in storage.FindAll().ToList())
        {
            var job = _jobs.FindById(file.Id);
            if (job is not null && job.Status != JobStatus.Completed && !_inputs.Exists(file.Id))
            {
                using var buffer = new MemoryStream();
                storage.Download(file.Id, buffer);
                _inputs.Write(file.Id, buffer.ToArray());
            }
            storage.Delete(file.Id);
        }
        db.DropCollection("initFiles");
        db.DropCollection("initChunks");
        db.Rebuild();
    }

    /// <summary>At start-up: inputs whose job completed (a crash between saving and deleting) or is gone.</summary>
    private void DeleteUnneededInitImages()
    {
        foreach (var name in _inputs.FileNames())
        {
            var id = Path.GetFileNameWithoutExtension(name);
            if (_jobs.FindById(id) is null or { Status: JobStatus.Completed }) _inputs.Delete(id);
        }
    }

    private void Update(string id, Action<Job> change)
    {
        lock (_gate)
        {
            var job = _jobs.FindById(id) ?? throw new InvalidOperationException($"Job '{id}' vanished from the queue database.");
            change(job);
            job.FinishedUtc = DateTime.UtcNow;
            _jobs.Update(job);
        }
    }
}
