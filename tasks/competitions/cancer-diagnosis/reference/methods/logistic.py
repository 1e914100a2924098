"""L2 logistic regression on standardised features, the regularisation chosen by 5-fold cross-validation."""
from sklearn.linear_model import LogisticRegressionCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def build():
    return make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=10, max_iter=5000))
