using System.Net.Http.Json;
using LiteDB;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Hubs;

/// <summary>
/// Issue 27, items 8 and 10: init images live as files only while their job needs them (older queue files with the
/// images inside still load), and a full disk fails the job it would have started, pauses the queue and lets it go
/// on by itself when space returns.
/// </summary>
public sealed class QueueStorageTests
{
    private static async Task<JobSnapshot> WaitFinished(HttpClient client, string id)
    {
        JobSnapshot? now = null;
        for (var i = 0; i < 1200 && now?.Status.IsFinished() != true; i++)
        {
            await Task.Delay(100);
            now = await client.GetFromJsonAsync<JobSnapshot>($"/api/jobs/{id}");
        }
        return now!;
    }

    [Fact]
    public async Task A_completed_img2img_job_keeps_no_copy_of_its_init_image()
    {
        await using var app = new AppFactory();
        using var client = app.CreateClient();
        var init = Png.Gradient(64, 64);

        using var created = await client.PostAsJsonAsync("/api/jobs", new GenerationRequest { Prompt = "x", Steps = 2, InitImage = init, Strength = 0.5 });
        var job = (await created.Content.ReadFromJsonAsync<JobSnapshot>())!;
        Assert.Equal(JobStatus.Completed, (await WaitFinished(client, job.JobId)).Status);

        var inputs = Path.Combine(app.DataPath, InitImageFiles.FolderName);
        Assert.Empty(Directory.Exists(inputs) ? Directory.GetFiles(inputs) : []);
        var database = app.Services.GetRequiredService<QueueDatabase>().Database;
        Assert.DoesNotContain("initChunks", database.GetCollectionNames());
        Assert.DoesNotContain("initFiles", database.GetCollectionNames());
    }

    [Fact]
    public async Task An_inpaint_jobs_mask_is_a_file_that_outlives_a_restart_and_goes_with_the_result()
    {
        var data = AppFactory.NewDataFolder();
        try
        {
            var init = Png.Gradient(64, 64);
            using var maskImage = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(64, 64);
            for (var y = 0; y < 64; y++) for (var x = 0; x < 24; x++) maskImage[x, y] = new SixLabors.ImageSharp.PixelFormats.L8(255);
            using var maskPng = new MemoryStream();
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(maskImage, maskPng);
            var mask = maskPng.ToArray();
            string longJob, inpaint;
            await using (var before = new AppFactory(data))
            {
                var queue = before.Services.GetRequiredService<GenerationQueue>();
                longJob = queue.Enqueue(new GenerationRequest { Prompt = "very long", Steps = GenerationLimits.MaxSteps, BatchCount = 50, Width = 256, Height = 256 }).Id;
                inpaint = queue.Enqueue(new GenerationRequest
                {
                    Prompt = "a dog", Steps = 3, Seed = 1, InitImage = init, Strength = 0.9, Mask = mask, MaskBlur = 0, InpaintingFill = 1,
                }).Id;
                // The document holds no mask bytes (listing the queue drags no megabytes around); the file does.
                var document = before.Services.GetRequiredService<QueueDatabase>().Database.GetCollection("jobs").FindById(inpaint);
                Assert.True(document["Request"]["Mask"].IsNull);
                Assert.True(document["HasMask"].AsBoolean);
                Assert.Equal(mask, File.ReadAllBytes(Path.Combine(data, InitImageFiles.FolderName, inpaint + ".mask")));
            } // host stops here

            await using var after = new AppFactory(data);
            var restarted = after.Services.GetRequiredService<GenerationQueue>();
            restarted.Cancel(longJob, AccountScope.Everything);
            using var client = after.CreateClient();
            var finished = await WaitFinished(client, inpaint);
            Assert.Equal(JobStatus.Completed, finished.Status);
            // The mask still applied after the restart: the kept half is the init image exactly.
            var pixels = Png.Pixels(await client.GetByteArrayAsync($"/api/images/{finished.ImageIds.Single()}"));
            var before64 = Png.Pixels(init);
            for (var y = 0; y < 64; y++)
                for (var x = 32; x < 64; x++)
                    Assert.Equal(before64[(y * 64 + x) * 3], pixels[(y * 64 + x) * 3]);
            Assert.False(File.Exists(Path.Combine(data, InitImageFiles.FolderName, inpaint + ".mask")), "the mask goes once the result is saved");
        }
        finally
        {
            AppFactory.TryDelete(data);
        }
    }

    [Fact]
    public async Task A_queue_file_with_inline_init_images_still_loads_and_runs_them()
    {
        var data = AppFactory.NewDataFolder();
        try
        {
            // The layout before init images were files: the job document without the image, the image in LiteDB file storage.
            var id = Job.NewId();
            var mapper = new BsonMapper { EmptyStringToNull = false };
            mapper.Entity<Job>().Id(j => j.Id, autoId: false);
            using (var old = new LiteDatabase(new ConnectionString { Filename = Path.Combine(data, "queue.db"), Connection = ConnectionType.Direct }, mapper))
            {
                old.GetCollection<Job>("jobs").Insert(new Job
                {
                    Id = id, Status = JobStatus.Queued, Order = 1, HasInitImage = true, CreatedUtc = DateTime.UtcNow,
                    Request = new GenerationRequest { Prompt = "old", Steps = 2, Strength = 0.5 },
                });
                using var image = new MemoryStream(Png.Gradient(64, 64));
                old.GetStorage<string>("initFiles", "initChunks").Upload(id, "init", image);
            }

            await using var app = new AppFactory(data);
            using var client = app.CreateClient();
            var finished = await WaitFinished(client, id);
            Assert.Equal(JobStatus.Completed, finished.Status);
            Assert.Single(finished.ImageIds);
            var database = app.Services.GetRequiredService<QueueDatabase>().Database;
            Assert.DoesNotContain("initChunks", database.GetCollectionNames());
        }
        finally
        {
            AppFactory.TryDelete(data);
        }
    }

    private sealed class FakeDisk : IDiskSpace
    {
        public long Free = 1L << 40;
        public long? FreeBytes() => Interlocked.Read(ref Free);
    }

    [Fact]
    public async Task A_full_disk_fails_the_next_job_with_a_message_and_the_queue_resumes_when_space_returns()
    {
        var disk = new FakeDisk { Free = 10L << 20 };
        await using var factory = new AppFactory(settings: new Dictionary<string, string?> { ["Generation:DiskRecheckInterval"] = "00:00:00.1" });
        await using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IDiskSpace>(disk)));
        using var client = app.CreateClient();

        async Task<string> Submit(string prompt)
        {
            using var response = await client.PostAsJsonAsync("/api/jobs", new GenerationRequest { Prompt = prompt, Steps = 2 });
            return (await response.Content.ReadFromJsonAsync<JobSnapshot>())!.JobId;
        }

        var first = await Submit("first");
        var failed = await WaitFinished(client, first);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains("disk is almost full", failed.Error);
        Assert.Contains("10 MB free", failed.Error);

        var second = await Submit("second");
        await Task.Delay(1000);
        Assert.Equal(JobStatus.Queued, (await client.GetFromJsonAsync<JobSnapshot>($"/api/jobs/{second}"))!.Status);

        Interlocked.Exchange(ref disk.Free, 1L << 40);
        Assert.Equal(JobStatus.Completed, (await WaitFinished(client, second)).Status);
        var third = await Submit("third");
        Assert.Equal(JobStatus.Completed, (await WaitFinished(client, third)).Status);
    }
}
