// The one Kubernetes call the registry server makes for bearer tokens (creating TokenReviews and
// SubjectAccessReviews), wired from the role's Kubernetes client so the server holds no client of its own.
import type { CreateReview } from "../server/kube-reviews.ts";
import type { KubeClient } from "../store/kube/client.ts";

export const reviewsThrough = (client: KubeClient): CreateReview => (path, review) => client.request("POST", path, { body: review });
