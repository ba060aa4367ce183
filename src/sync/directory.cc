// The directory service and sync engine; see galsync/directory.h.
#include "galsync/directory.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <thread>

#include "sync/page.h"

namespace galsync {

struct Directory::DomainState {
  int64_t id;
  std::string name;
  uint64_t uid;
  // Highest seq known committed; only grows.
  std::atomic<uint64_t> last_seq;
  std::atomic<uint64_t> horizon_seq;
  // Held shared while a public-view read projects contacts, exclusively
  // while the policy changes: a read never pairs rows re-stamped for a new
  // policy with the old one.
  std::shared_mutex policy_mu;
  std::shared_ptr<const PublicProjection> projection;  // GUARDED_BY(policy_mu)
  // The policy as the store holds it (DomainInfo::policy_json), to tell
  // whether a scan's snapshot was written under another policy.
  std::string policy_json;  // GUARDED_BY(policy_mu)

  DomainState(const DomainInfo& d, VisibilityPolicy policy)
      : id(d.id), name(d.name), uid(d.uid), last_seq(d.last_seq),
        horizon_seq(d.horizon_seq),
        projection(std::make_shared<PublicProjection>(std::move(policy))),
        policy_json(d.policy_json) {}
};

namespace {

// Raises `a` to `v`; true if this call raised it.
bool AtomicMax(std::atomic<uint64_t>& a, uint64_t v) {
  uint64_t cur = a.load();
  while (cur < v) {
    if (a.compare_exchange_weak(cur, v)) return true;
  }
  return false;
}

Error Gone(std::string reason, std::string message) {
  return Error{ErrorKind::kGone, std::move(reason),
               std::move(message) +
                   "; discard the local copy and sync again without a token"};
}

}  // namespace

Directory::Directory(std::unique_ptr<Store> store, std::string token_secret,
                     DirectoryOptions options, Clock* clock)
    : store_(std::move(store)),
      tokens_(std::move(token_secret)),
      options_(options),
      clock_(clock) {}

Directory::~Directory() = default;

Status Directory::Open() {
  auto list = store_->ListDomains();
  if (!list) return std::move(list).error();
  for (const DomainInfo& d : *list) {
    if (auto st = Adopt(d); !st) return std::move(st).error();
  }
  return Ok{};
}

Result<std::shared_ptr<Directory::DomainState>> Directory::Find(
    std::string_view domain) {
  {
    std::shared_lock lock(mu_);
    auto it = domains_.find(std::string(domain));
    if (it != domains_.end()) return it->second;
  }
  // Another server on a shared store may have created it a moment ago,
  // before its event reached this one.
  if (store_->shared()) {
    if (auto info = store_->GetDomain(domain); info.ok()) {
      if (auto d = Adopt(*info); d.ok()) return d;
    }
  }
  return Error::NotFound("domain_not_found",
                         "no domain named \"" + std::string(domain) + "\"");
}

Result<std::shared_ptr<Directory::DomainState>> Directory::Adopt(
    const DomainInfo& listed) {
  std::shared_ptr<DomainState> d;
  {
    std::shared_lock lock(mu_);
    if (auto it = domains_.find(listed.name); it != domains_.end()) {
      d = it->second;
    }
  }
  if (!d) {
    auto policy = ParsePolicyJson(listed.policy_json);
    if (!policy) {
      return Error::Internal("domain \"" + listed.name +
                             "\" has an unreadable visibility policy: " +
                             policy.error().message);
    }
    auto fresh = std::make_shared<DomainState>(listed, std::move(*policy));
    std::unique_lock lock(mu_);
    auto [it, inserted] = domains_.try_emplace(listed.name, fresh);
    if (inserted) {
      by_id_[listed.id] = fresh;
      return fresh;
    }
    d = it->second;  // another thread adopted it first
  }
  // Known already: re-read it while holding its policy lock, which a local
  // SetPolicy holds across its commit, so what is read here is never older
  // than a policy this server has just set (`listed` may be).
  uint64_t last_seq = 0;
  {
    std::unique_lock lock(d->policy_mu);
    auto info = store_->GetDomain(d->name);
    if (!info) return std::move(info).error();
    if (d->policy_json != info->policy_json) {
      auto policy = ParsePolicyJson(info->policy_json);
      if (!policy) {
        return Error::Internal("domain \"" + info->name +
                               "\" has an unreadable visibility policy: " +
                               policy.error().message);
      }
      d->projection = std::make_shared<PublicProjection>(std::move(*policy));
      d->policy_json = info->policy_json;
    }
    AtomicMax(d->horizon_seq, info->horizon_seq);
    last_seq = info->last_seq;
  }
  Advanced(*d, last_seq);
  return d;
}

void Directory::Advanced(DomainState& d, uint64_t last_seq) {
  if (!AtomicMax(d.last_seq, last_seq)) return;
  std::shared_lock lock(mu_);
  for (const auto& [_, listener] : listeners_) listener(d.name, last_seq);
}

void Directory::OnStoreEvent(const StoreEvent& e) {
  if (e.kind == StoreEvent::Kind::kKeys) return;
  if (e.kind == StoreEvent::Kind::kCommit) {
    std::shared_ptr<DomainState> d;
    {
      std::shared_lock lock(mu_);
      if (auto it = by_id_.find(e.domain_id); it != by_id_.end()) {
        d = it->second;
      }
    }
    if (d) {
      Advanced(*d, e.last_seq);
      return;
    }
  }
  // A new domain, a policy change, a commit to a domain not yet known, or
  // events missed: re-read the domains (they are few).
  auto list = store_->ListDomains();
  if (!list) return;  // the next event or resync tries again
  for (const DomainInfo& info : *list) {
    if (e.kind == StoreEvent::Kind::kResync || info.id == e.domain_id) {
      (void)Adopt(info);
    }
  }
}

uint64_t Directory::AddCommitListener(CommitListener listener) {
  std::unique_lock lock(mu_);
  listeners_.emplace_back(next_listener_, std::move(listener));
  return next_listener_++;
}

void Directory::RemoveCommitListener(uint64_t handle) {
  std::unique_lock lock(mu_);
  std::erase_if(listeners_, [&](const auto& l) { return l.first == handle; });
}

void Directory::Committed(DomainState& d, const WriteResult& w) {
  if (w.last_seq != 0) Advanced(d, w.domain_last_seq);
}

Result<DomainInfo> Directory::CreateDomain(std::string_view name) {
  auto d = store_->CreateDomain(name, clock_->NowMicros());
  if (!d) return d;
  if (auto st = Adopt(*d); !st) return std::move(st).error();
  return d;
}

Result<std::vector<DomainInfo>> Directory::ListDomains() {
  return store_->ListDomains();
}

Result<DomainInfo> Directory::GetDomain(std::string_view name) {
  return store_->GetDomain(name);
}

std::optional<uint64_t> Directory::LastSeq(std::string_view domain) const {
  std::shared_lock lock(mu_);
  auto it = domains_.find(std::string(domain));
  if (it == domains_.end()) return std::nullopt;
  return it->second->last_seq.load();
}

Result<StoredContact> Directory::GetContact(std::string_view domain,
                                            std::string_view id, View view) {
  auto found = Find(domain);
  if (!found) return std::move(found).error();
  DomainState& d = **found;
  std::shared_lock policy(d.policy_mu, std::defer_lock);
  if (view == View::kPublic) policy.lock();
  auto c = store_->GetContact(d.id, id);
  if (c && c->deleted) {
    return Error::NotFound("contact_deleted",
                           "contact \"" + std::string(id) + "\" was deleted");
  }
  if (c && view == View::kPublic) {
    auto p = d.projection->Project(c->json);
    if (p.kind == PublicProjection::Kind::kHidden) {
      // Word for word what an id that never existed gets.
      return Error::NotFound("contact_not_found",
                             "no contact with id \"" + std::string(id) + "\"");
    }
    if (p.kind == PublicProjection::Kind::kRedacted) c->json = std::move(p.json);
  }
  return c;
}

Result<StoredContact> Directory::ContactBySource(std::string_view domain,
                                                std::string_view source,
                                                std::string_view source_key) {
  auto found = Find(domain);
  if (!found) return std::move(found).error();
  return store_->ContactBySource((*found)->id, source, source_key);
}

Result<VisibilityPolicy> Directory::GetPolicy(std::string_view domain) {
  auto found = Find(domain);
  if (!found) return std::move(found).error();
  std::shared_lock policy((*found)->policy_mu);
  return (*found)->projection->policy();
}

Result<WriteResult> Directory::SetPolicy(std::string_view domain,
                                         const VisibilityPolicy& policy,
                                         std::string_view actor) {
  auto found = Find(domain);
  if (!found) return std::move(found).error();
  DomainState& d = **found;
  std::unique_lock lock(d.policy_mu);
  auto next = std::make_shared<const PublicProjection>(policy);
  const PublicProjection& prev = *d.projection;
  auto w = store_->SetPolicy(
      d.id, PolicyJson(policy),
      [&](std::string_view json) {
        return PublicProjection::Differs(prev, *next, json);
      },
      actor, clock_->NowMicros());
  if (!w) return w;
  d.projection = std::move(next);
  d.policy_json = PolicyJson(policy);
  lock.unlock();
  Committed(d, *w);
  return w;
}

Result<ScanResult> Directory::ScanChanges(std::string_view domain, View view,
                                          uint64_t after_seq,
                                          uint64_t skip_tombstones_upto,
                                          size_t max_rows,
                                          const ChangeVisitor& visit,
                                          uint64_t min_snapshot_seq,
                                          std::chrono::milliseconds replica_wait) {
  auto found = Find(domain);
  if (!found) return std::move(found).error();
  const auto give_up = std::chrono::steady_clock::now() + replica_wait;
  auto pause = kReplicaFirstPause;
  for (;;) {
    auto scan = Scan(**found, view, after_seq, skip_tombstones_upto, max_rows,
                     visit, min_snapshot_seq);
    // A refused snapshot had none of its rows visited: scan again.
    if (scan || scan.error().reason != kReplicaBehind ||
        std::chrono::steady_clock::now() + pause > give_up) {
      return scan;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, kReplicaMaxPause);
  }
}

namespace {

Error ReplicaBehind(uint64_t have, uint64_t need) {
  return Error{ErrorKind::kUnavailable, std::string(kReplicaBehind),
               "the read replica has replayed this domain up to seq " +
                   std::to_string(have) + ", and this request needs seq " +
                   std::to_string(need) + "; retry shortly"};
}

}  // namespace

bool Directory::HadPublicly(DomainState& d,
                            const PublicProjection& projection,
                            const ChangeRow& row, uint64_t after_seq,
                            uint64_t skip_tombstones_upto) {
  // A full sync in progress never sent what was gone (or hidden) before
  // its snapshot, just as it skips those tombstones.
  if (skip_tombstones_upto > after_seq && row.seq <= skip_tombstones_upto) {
    return false;
  }
  // A reader at after_seq may hold any version current at or before it
  // (it misses the versions whose rows moved on before it read them), so
  // it may have the contact iff one of those was publicly visible.
  bool visible = false;
  auto complete = store_->ContactVersions(
      d.id, row.id, after_seq, [&](std::string_view json) {
        visible = projection.Project(json).kind !=
                  PublicProjection::Kind::kHidden;
        return !visible;
      });
  // Purged history or an error: send the delete; for a reader without the
  // contact it is a no-op.
  return visible || !complete || !*complete;
}

Result<ScanResult> Directory::Scan(DomainState& d, View view,
                                   uint64_t after_seq,
                                   uint64_t skip_tombstones_upto,
                                   size_t max_rows, const ChangeVisitor& visit,
                                   uint64_t min_snapshot_seq) {
  // A snapshot older than min_snapshot_seq (a replica's) is refused before
  // any of its rows is visited.
  std::optional<uint64_t> too_old;
  if (view == View::kFull) {
    auto scan = store_->ScanChanges(
        d.id, after_seq, skip_tombstones_upto, max_rows,
        [&](const ChangeRow& row) { return !too_old && visit(row); },
        [&](const ScanResult& snapshot) {
          if (snapshot.snapshot_last_seq < min_snapshot_seq) {
            too_old = snapshot.snapshot_last_seq;
          }
        });
    if (scan && too_old) return ReplicaBehind(*too_old, min_snapshot_seq);
    return scan;
  }
  std::shared_lock policy(d.policy_mu);
  const PublicProjection* projection = d.projection.get();
  // Rows are projected by the policy of their own snapshot. On a shared
  // store another server may have changed it (re-stamping the contacts it
  // affects) before this one heard: then the snapshot's policy applies.
  std::shared_ptr<const PublicProjection> snapshot_projection;
  std::optional<Error> unreadable;
  auto on_snapshot = [&](const ScanResult& snapshot) {
    if (snapshot.snapshot_last_seq < min_snapshot_seq) {
      too_old = snapshot.snapshot_last_seq;
      return;
    }
    if (snapshot.policy_json == d.policy_json) return;
    auto p = ParsePolicyJson(snapshot.policy_json);
    if (!p) {
      unreadable = Error::Internal("unreadable visibility policy: " +
                                   p.error().message);
      return;
    }
    snapshot_projection = std::make_shared<PublicProjection>(std::move(*p));
    projection = snapshot_projection.get();
  };
  auto scan = store_->ScanChanges(
      d.id, after_seq, skip_tombstones_upto, max_rows,
      [&](const ChangeRow& row) {
        if (unreadable || too_old) return false;
        if (row.deleted) return visit(row);
        auto p = projection->Project(row.json);
        switch (p.kind) {
          case PublicProjection::Kind::kAsStored:
            return visit(row);
          case PublicProjection::Kind::kRedacted: {
            ChangeRow redacted = row;
            redacted.json = p.json;
            return visit(redacted);
          }
          case PublicProjection::Kind::kHidden:
            break;
        }
        // Hidden: a delete for a reader that may have the contact (it was
        // visible at the reader's position), else nothing at all, so that
        // the ids of hidden contacts do not leave the server either.
        ChangeRow gone = row;
        gone.deleted = true;
        gone.json = {};
        gone.withheld = !HadPublicly(d, *projection, row, after_seq,
                                     skip_tombstones_upto);
        return visit(gone);
      },
      on_snapshot);
  if (unreadable) return *std::move(unreadable);
  if (scan && too_old) return ReplicaBehind(*too_old, min_snapshot_seq);
  return scan;
}

Result<WriteResult> Directory::Write(std::string_view domain,
                                     std::span<const ChangeRequest> changes,
                                     std::string_view actor) {
  auto d = Find(domain);
  if (!d) return std::move(d).error();
  if (changes.size() > options_.max_batch_changes) {
    return Error{ErrorKind::kPayloadTooLarge, "batch_too_large",
                 "a batch holds at most " +
                     std::to_string(options_.max_batch_changes) +
                     " changes; got " + std::to_string(changes.size())};
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!IsValidContactId(changes[i].id)) {
      std::string where =
          changes.size() > 1 ? "change " + std::to_string(i) + ": " : "";
      return Error::InvalidArgument(
          "invalid_id", where + "contact id must be 1..128 characters of "
                                "[A-Za-z0-9._~@+=-]");
    }
  }
  auto w = store_->Write((*d)->id, changes, actor, clock_->NowMicros());
  if (w) Committed(**d, *w);
  return w;
}

Result<PutResult> Directory::PutContact(std::string_view domain,
                                        const Contact& contact,
                                        std::optional<std::string> if_match,
                                        bool if_none_match,
                                        std::string_view actor) {
  ChangeRequest ch;
  ch.op = ChangeOp::kUpsert;
  ch.id = contact.id;
  ch.content_json = CanonicalContentJson(contact);
  ch.if_match = std::move(if_match);
  ch.if_none_match = if_none_match;
  auto w = Write(domain, std::span(&ch, 1), actor);
  if (!w) return std::move(w).error();
  PutResult out;
  out.result = w->outcomes[0].result;
  out.seq = w->outcomes[0].seq;
  out.created = w->outcomes[0].created;
  if (out.result == ChangeResult::kApplied) {
    out.json = StoredContactJson(ch.content_json, domain, out.seq, w->time_us);
  } else {
    out.json = std::move(w->outcomes[0].current_json);
  }
  return out;
}

Result<WriteResult> Directory::DeleteContact(
    std::string_view domain, std::string_view id,
    std::optional<std::string> if_match, std::string_view actor) {
  ChangeRequest ch;
  ch.op = ChangeOp::kDelete;
  ch.id = std::string(id);
  ch.if_match = std::move(if_match);
  auto w = Write(domain, std::span(&ch, 1), actor);
  if (w && w->outcomes[0].result == ChangeResult::kNotFound) {
    return Error::NotFound("contact_not_found",
                           "no contact with id \"" + std::string(id) + "\"");
  }
  return w;
}

Result<ChangesPage> Directory::Changes(std::string_view domain,
                                       const ChangesRequest& req) {
  auto found = Find(domain);
  if (!found) return std::move(found).error();
  DomainState& d = **found;

  const uint64_t kAll = std::numeric_limits<uint64_t>::max();
  uint64_t after = 0;
  uint64_t floor = 0;
  bool full = false;
  const uint64_t horizon = d.horizon_seq.load();
  if (req.token) {
    auto t = tokens_.Decode(*req.token);
    if (!t) return std::move(t).error();
    if (t->incarnation != store_->incarnation()) {
      return Gone("store_restored",
                  "the sync token is from another incarnation of the store "
                  "(it was restored or replaced)");
    }
    if (t->domain_uid != d.uid) {
      return Error::InvalidArgument(
          "token_domain_mismatch",
          "the sync token belongs to another domain than \"" + d.name + "\"");
    }
    if (t->view != req.view) {
      return Gone("view_changed",
                  "the sync token was issued for the " +
                      std::string(ViewName(t->view)) +
                      " view of the directory and this key sees the " +
                      std::string(ViewName(req.view)) +
                      " view (the private scope differs)");
    }
    if (t->seq > d.last_seq.load()) {
      // Possibly committed but not yet published to memory: ask the store.
      // What it says is news to the listeners too: the store's own event
      // for it, when it comes, raises nothing and tells no one.
      auto info = store_->GetDomain(d.name);
      if (!info) return std::move(info).error();
      Advanced(d, info->last_seq);
      if (t->seq > info->last_seq) {
        return Gone("token_ahead",
                    "the sync token is ahead of the store (it was restored "
                    "from an older backup)");
      }
    }
    after = t->seq;
    floor = t->floor;
    full = floor > 0;
    if (after < horizon && horizon > floor) {
      return Gone("token_expired",
                  "the sync token is older than the tombstone horizon (seq " +
                      std::to_string(horizon) + "); deletions since then "
                      "are no longer known");
    }
    // Up to date: answer from memory, echoing the token.
    if (floor == 0 && after == d.last_seq.load()) {
      PageWriter page;
      ChangesPage out;
      out.next_seq = after;
      out.body = page.Finish(*req.token, false, false);
      return out;
    }
  } else if (req.since_us) {
    auto s = store_->SeqBeforeTime(d.id, *req.since_us);
    if (!s) return std::move(s).error();
    after = *s;
    if (after < horizon) {
      return Gone("since_too_old",
                  "changes before the tombstone horizon are no longer known");
    }
  } else {
    full = true;
    floor = kAll;  // skip every tombstone of the first page's snapshot
  }

  size_t limit = req.limit == 0 ? options_.default_page_changes : req.limit;
  limit = std::min(limit, options_.max_page_changes);
  // What this server knows was committed, before the scan. A store that
  // reads from a replica may scan an older snapshot (Store::ScanChanges).
  const uint64_t known = d.last_seq.load();
  // A page from a snapshot behind the reader's position would send it back;
  // one with nothing new while the server knows of more would answer a
  // long-poll with an empty page; and a full sync continued from a
  // snapshot older than its first page's (its floor) could send a contact
  // whose delete, at or below the floor, it then skips. Such snapshots are
  // refused as replica_behind; JsonApi retries for a while before it
  // answers 503.
  uint64_t need = after < known ? after + 1 : after;
  if (full && floor != kAll) need = std::max(need, floor);

  PageWriter page(std::min<size_t>(limit * 640, options_.max_page_bytes));
  uint64_t last_included = after;
  // Leave room for the page's closing members (token, flags).
  const size_t budget = options_.max_page_bytes > PageWriter::kTailBytes
                            ? options_.max_page_bytes - PageWriter::kTailBytes
                            : 0;
  auto scan = Scan(
      d, req.view, after, floor, limit,
      [&](const ChangeRow& row) {
        if (row.withheld) {
          last_included = row.seq;
          return true;
        }
        if (page.count() > 0 &&
            page.bytes() + PageWriter::CostOf(row.id, row.json) > budget) {
          return false;  // over budget: leave this row for the next page
        }
        if (row.deleted) {
          page.AddDelete(row.seq, row.time_us, row.id);
        } else {
          page.AddUpsert(row.seq, row.time_us, row.id, row.json);
        }
        last_included = row.seq;
        return true;
      },
      need);
  if (!scan) return std::move(scan).error();
  Advanced(d, scan->snapshot_last_seq);  // news to the listeners too
  // A purge may have committed between the check above and the scan's
  // snapshot: check again against the snapshot's own horizon, so a page is
  // never served with tombstones missing.
  AtomicMax(d.horizon_seq, scan->horizon_seq);
  if (after < scan->horizon_seq && scan->horizon_seq > floor) {
    return Gone(req.token ? "token_expired" : "since_too_old",
                "changes before the tombstone horizon (seq " +
                    std::to_string(scan->horizon_seq) +
                    ") are no longer known");
  }

  ChangesPage out;
  out.count = page.count();
  // A replica's snapshot may end before what the server knows: then there
  // is more to fetch now, from a later snapshot.
  out.has_more = !scan->exhausted || scan->snapshot_last_seq < known;
  out.full_sync = full;
  out.next_seq = scan->exhausted ? scan->snapshot_last_seq : last_included;
  SyncToken next{store_->incarnation(), d.uid, out.next_seq, 0, req.view};
  if (full && out.has_more) {
    next.floor = floor == kAll ? scan->snapshot_last_seq : floor;
  }
  out.body = page.Finish(tokens_.Encode(next), out.has_more, full);
  return out;
}

Result<std::vector<HistoryEntry>> Directory::History(
    std::string_view domain, std::string_view contact_id, uint64_t after_seq,
    size_t limit) {
  auto d = Find(domain);
  if (!d) return std::move(d).error();
  limit = std::min(limit == 0 ? size_t{100} : limit,
                   options_.max_history_entries);
  return store_->History((*d)->id, contact_id, after_seq, limit);
}

Result<PurgeResult> Directory::Purge(std::string_view domain,
                                     std::optional<int64_t> older_than_us) {
  auto d = Find(domain);
  if (!d) return std::move(d).error();
  int64_t age = older_than_us.value_or(options_.retention_us);
  auto r = store_->Purge((*d)->id, clock_->NowMicros() - age);
  if (r) AtomicMax((*d)->horizon_seq, r->horizon_seq);
  return r;
}

Status Directory::PurgeAll() {
  std::vector<std::string> names;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, _] : domains_) names.push_back(name);
  }
  for (const auto& name : names) {
    if (auto r = Purge(name); !r) return std::move(r).error();
  }
  return Ok{};
}

}  // namespace galsync
